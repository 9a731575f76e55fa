//! Issue 2: the sample mart in data-samples/ builds, with known values.
