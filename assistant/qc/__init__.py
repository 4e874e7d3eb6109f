"""``focus-assistant qc``: focus QC of a day's takes, in parallel here or on a Dask cluster.

- :mod:`clips`: which files under the paths are clips, their output folders and content hashes;
- :mod:`job`: one clip analysed as ``analyze`` does, written under a temporary name and renamed;
- :mod:`schedule`: which clips still need doing, and running them on workers (local or Dask);
- :mod:`summary` and :mod:`index_page`: ``summary.json``/``summary.csv`` and ``index.html``.
"""
