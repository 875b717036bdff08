"""ClassAd language: parse, evaluate, unparse, match."""
