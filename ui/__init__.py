"""The app around the pages: settings and stores, cached service calls, shared widgets, the shell."""
