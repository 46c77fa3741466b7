"""Read R reference output committed under tests/reference/ (shared by the model tests)."""
from __future__ import annotations

import pandas as pd

MISSING = ["NA", "NaN", "Inf"]


def read_r_csv(path) -> pd.DataFrame:
    """Read an R output file (numbers were written with format(digits = 17), hence padded text).

    A column becomes float when every non-missing cell parses as a number; otherwise it stays text.
    """
    out = pd.read_csv(path, dtype=str, keep_default_na=False)
    for c in out.columns:
        text = out[c].str.strip()
        conv = pd.to_numeric(text.where(~text.isin(MISSING), None), errors="coerce")
        if conv.notna().sum() == (~text.isin(MISSING)).sum():
            out[c] = conv.astype(float)
        else:
            out[c] = text
    return out


def thai_with_sellers() -> pd.DataFrame:
    """The UCI Live sellers posts with their seller code, exactly as the R reference scripts read them."""
    import os
    from pathlib import Path

    base = Path(os.environ["TOOLKIT_DATA_MIRROR"]) / "uci_live_sellers_thailand"
    posts = pd.read_csv(base / "Live_20210128.csv")
    codes = pd.read_csv(base / "seller_codes.csv")
    return posts.merge(codes[["status_id", "seller"]], on="status_id", how="inner")
