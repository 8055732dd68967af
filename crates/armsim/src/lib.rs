//! armsim: an ARM simulator (see issue 5). Built out in its own change.
