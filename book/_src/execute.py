"""Execute notebooks in place with nbclient, in this Python (so outputs match nbval's run).

    python book/_src/execute.py book/01_backprop.ipynb
"""
import sys
import time

import nbformat
from nbclient import NotebookClient

for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "book"}}).execute()
    nbformat.write(nb, path)
    print(f"{path}: executed in {time.perf_counter() - start:.1f} s")
