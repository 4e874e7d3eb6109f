"""The ``--driver`` forms in one line, for help text and error messages (imported by the CLI at start-up)."""

DRIVER_FORMS = ("serial:PORT[@BAUD], osc://HOST:PORT/ADDRESS, uvc, visca://HOST[:PORT], bmd://HOST, "
                "bmd-ble://NAME|ADDRESS or module:factory")
