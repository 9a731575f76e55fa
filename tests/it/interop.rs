//! Issue 2: an independent reader (Python `deltalake`) reads what lakemart wrote.
