"""The local stack: the AWS emulator, the same resources the stacks declare, the event router, the dev server."""
