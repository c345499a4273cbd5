"""Sub-commands of `csm`; each module registers its parsers in `register(subparsers, common)`."""
