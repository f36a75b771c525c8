"""What both API emulators share: the clock, fault injection, statistics, serving over HTTP."""
