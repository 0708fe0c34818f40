"""Stand-ins at the network edge, speaking the real wire protocol to the real client library."""
