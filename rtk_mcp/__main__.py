from rtk_mcp.cli import main

raise SystemExit(main())
