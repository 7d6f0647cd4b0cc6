//! Resolves and validates a suite file into a `Suite`, collecting every error.
