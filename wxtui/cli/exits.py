"""The exit statuses of the bulk-action commands, every family alike."""

EXIT_OK = 0  # all done
EXIT_FAILED = 1  # something failed (listed)
EXIT_NOT_SENT = 2  # nothing was sent: bad input, a plan with errors, declined
EXIT_RESUMABLE = 3  # paused (a quota ran out) or cancelled: `wxtui jobs resume ID`
