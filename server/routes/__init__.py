"""HTTP and websocket routes: api.py (JSON API), media.py (project files), ws.py (the protocol)."""
