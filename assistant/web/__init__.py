"""The on-set web monitor (``live --serve``): the live view, its state and the operator's commands in a browser.

``settings`` is a leaf the config loads (nothing here imports aiohttp until a
server is made); ``sink`` is the pipeline's side, ``server`` the HTTP side on its
own thread, ``static/`` the page.
"""
