//! arm-client: typed ARM access (see issue 7). Built out in its own change.
