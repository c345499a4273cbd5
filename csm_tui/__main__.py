from csm_tui.cli import main

raise SystemExit(main())
