"""What the command and the screens both show, written once and without Textual: presenters that
turn the release, the inspection's reports and the portal's events into translated text, and the
writers of the documents a step leaves in the project folder (the identification-risk analysis).

The layer sits below `cli` and `ui`, which both import it, and above `project`, `services`,
`inspect` and `core`, whose values it presents; a flow may write a step's documents through it.
It never imports Textual (`pyproject.toml`, `[tool.importlinter]`)."""
