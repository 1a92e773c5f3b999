from hdh_wizard.cli.main import main

raise SystemExit(main())
