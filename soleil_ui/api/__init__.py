"""SOLEil for programs: the JSON API's and the MCP server's shared core (no NiceGUI, no HTTP framework rules).

``calls`` are the operations both interfaces offer, each one unit of work on the same services the pages use, with
the ``Actor`` a token stands for; ``schemas`` are their JSON shapes; ``errors`` maps the domain errors to stable codes.
``pages/api.py`` (REST under ``/api/v1``) and ``mcp_server`` (MCP tools at ``/mcp``) are thin layers over ``calls``.
"""
