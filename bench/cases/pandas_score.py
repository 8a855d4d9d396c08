# What a user would write instead of `outpost score` (issue 13's comparison): pandas read_csv, a
# NumPy forward pass of the same MLP (same weights, float32 like ONNX Runtime), to_csv. Run by the
# throughput bench with Debian's /usr/bin/python3 (python3-pandas). Prints the seconds it took
# (after imports) as JSON; the bench also times the whole process.
#   usage: pandas_score.py <input.csv> <weights.json> <output.csv>
import json
import sys
import time

import numpy as np
import pandas as pd

src, weights_file, out = sys.argv[1:4]
with open(weights_file) as f:
    w = json.load(f)
t0 = time.perf_counter()
df = pd.read_csv(src)
x = df[w["features"]].to_numpy(dtype=np.float32)
for i, layer in enumerate(w["layers"]):
    W = np.asarray(layer["weights"], dtype=np.float32).reshape(layer["inputs"], layer["outputs"])
    x = x @ W + np.asarray(layer["bias"], dtype=np.float32)
    if i < len(w["layers"]) - 1:
        x = np.tanh(x)
x = np.exp(x - x.max(axis=1, keepdims=True))
p = x / x.sum(axis=1, keepdims=True)
classes = w["classes"]
res = pd.DataFrame({"row": np.arange(1, len(df) + 1), "label": np.asarray(classes)[p.argmax(axis=1)]})
for j, c in enumerate(classes):
    res["p_" + c] = p[:, j]
res.to_csv(out, index=False)
print(json.dumps({"seconds": time.perf_counter() - t0, "rows": len(df)}))
