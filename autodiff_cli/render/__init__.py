"""One module per output form; each only formats a Trace or a Graph."""
