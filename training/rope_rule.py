"""The RoPE rule of models.json: which factor multiplies the RoPE base for a window of T tokens.

At and below the training context the training base is kept (factor 1). Beyond it:
  {"rule": "fixed", "factor": 50}                                   one factor for every length
  {"rule": "per-length", "bands": [{"upTo": 1024, "factor": 10}, ..., {"upTo": null, "factor": 50}]}
                                                                    the first band whose upTo >= T
Bands, not a continuous curve: an edit that keeps the window inside its band keeps every key's
rotation, so an incremental re-inspection stays exact. src/core reads the same format.
"""


def fixed(factor):
    return {"rule": "fixed", "factor": float(factor)}


def per_length(bands):
    """bands: [(upTo or None, factor)], ascending, the last one open (None)."""
    assert bands and bands[-1][0] is None, "the last band must be open (upTo None)"
    return {"rule": "per-length", "bands": [{"upTo": up, "factor": float(f)} for up, f in bands]}


def scale_for(T, ctx, rule):
    """The factor for a window of T tokens of a model trained at ctx tokens."""
    if T <= ctx:
        return 1.0
    if rule["rule"] == "fixed":
        return rule["factor"]
    for band in rule["bands"]:
        if band["upTo"] is None or T <= band["upTo"]:
            return band["factor"]
    raise ValueError("per-length rule without an open last band")


def describe(rule):
    if rule["rule"] == "fixed":
        return f"x{rule['factor']:g}"
    parts, lo = [], None
    for band in rule["bands"]:
        parts.append(f"x{band['factor']:g} " + (f"to {band['upTo']:,}" if band["upTo"] is not None else "beyond"))
    return ", ".join(parts)
