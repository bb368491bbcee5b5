"""The HTTP and WebSocket edge: the Quart-Trio app, the device socket, the Hypercorn server."""
