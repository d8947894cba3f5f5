"""Keras' interactive logging switch (`keras.utils.enable_interactive_logging` ...).

With interactive logging on (the default) progress bars and messages go to stdout; off, they go
to the `logging` module (Keras sends them to absl logging).
"""

import logging
import sys

_INTERACTIVE = [True]


def enable_interactive_logging():
    """Messages (progress bars, summaries) go to stdout."""
    _INTERACTIVE[0] = True


def disable_interactive_logging():
    """Messages go to Python logging (`logging.info`) instead of stdout."""
    _INTERACTIVE[0] = False


def is_interactive_logging_enabled():
    """Whether messages go to stdout (True, the default) or to Python logging."""
    return _INTERACTIVE[0]


def print_msg(message, line_break=True):
    """Print `message` to stdout, or log it when interactive logging is disabled."""
    if _INTERACTIVE[0]:
        sys.stdout.write(message + "\n" if line_break else message)
        sys.stdout.flush()
    else:
        logging.info(message)
