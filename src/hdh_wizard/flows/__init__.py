"""The steps' sequences, written once, called by the screens' workers and the headless commands.

One module per step that has a sequence: its checks (in one order), "nothing to redo", the
reopen rule, the run with progress and cancel, saving progress, the commit. No Textual, no
printing: a flow talks to its caller through `port.FlowContext`.
"""
