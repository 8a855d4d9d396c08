"""scikit-learn baselines for the `train` bench: LogisticRegression and HistGradientBoostingClassifier
on the very rows the Outpost trainer sees (CSV files written by bench/cases/train.ts), same features,
same split. Run by /usr/bin/python3 (Debian's python3-sklearn). Prints one JSON object.

usage: train-sklearn.py <train.csv> <valid.csv> <target> <numeric,cols> <categorical,cols>
"""
import json
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

train_file, valid_file, target, numeric, categorical = sys.argv[1:6]
numeric = [c for c in numeric.split(",") if c]
categorical = [c for c in categorical.split(",") if c]
dtypes = {c: str for c in categorical}
train = pd.read_csv(train_file, dtype=dtypes, keep_default_na=False, na_values=[""])
valid = pd.read_csv(valid_file, dtype=dtypes, keep_default_na=False, na_values=[""])
features = numeric + categorical
y_train = train[target].astype(str).to_numpy()
y_valid = valid[target].astype(str).to_numpy()
classes = sorted(set(y_train))


def metrics(model, x_valid):
    p = model.predict_proba(x_valid)
    order = [list(model.classes_).index(c) for c in classes]
    p = p[:, order]
    out = {"logLoss": log_loss(y_valid, p, labels=classes), "accuracy": accuracy_score(y_valid, np.array(classes)[p.argmax(axis=1)])}
    if len(classes) == 2:
        out["auc"] = roc_auc_score(y_valid == classes[1], p[:, 1])
    else:
        # macro one-vs-rest over the classes the validation rows hold (AUC needs both sides)
        present = [j for j, c in enumerate(classes) if 0 < (y_valid == c).sum() < len(y_valid)]
        out["aucMacroOvr"] = float(np.mean([roc_auc_score(y_valid == classes[j], p[:, j]) for j in present]))
    return out


results = {"sklearn": sklearn.__version__}

# Logistic regression: standardised numbers, one-hot categories (unknown → all zeros), C = 1, lbfgs.
lr = make_pipeline(
    ColumnTransformer([("num", StandardScaler(), numeric)] + ([("cat", OneHotEncoder(handle_unknown="ignore"), categorical)] if categorical else [])),
    LogisticRegression(max_iter=1000),
)
t = time.perf_counter()
lr.fit(train[features], y_train)
fit = time.perf_counter() - t
results["logreg"] = {**metrics(lr, valid[features]), "fitSeconds": fit}

# HistGradientBoosting: defaults, native categorical splits on ordinal codes (unknown → missing).
def encode(df, vocab):
    x = df[numeric].astype(float).copy()
    for c in categorical:
        x[c] = df[c].map(vocab[c]).astype(float)
    return x[features]


vocab = {c: {v: i for i, v in enumerate(sorted(train[c].dropna().unique()))} for c in categorical}
xt, xv = encode(train, vocab), encode(valid, vocab)
hgb = HistGradientBoostingClassifier(categorical_features=[features.index(c) for c in categorical] or None, random_state=0)
t = time.perf_counter()
hgb.fit(xt, y_train)
fit = time.perf_counter() - t
results["hgb"] = {**metrics(hgb, xv), "fitSeconds": fit, "iterations": int(hgb.n_iter_)}
print(json.dumps(results))
