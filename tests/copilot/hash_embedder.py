"""A deterministic test embedder: a unit vector from each text's sha256, remembering every text it embedded (so a test
can count what indexing and answering embed). Shared by the copilot's unit-vector and passage tests."""

from __future__ import annotations

import hashlib

import numpy as np


class HashEmbedder:
    """Deterministic unit vectors from each text's hash; remembers every text it embedded."""

    model_id, dimension = "hash-16", 16

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return [self.vector(t) for t in texts]

    @classmethod
    def vector(cls, text: str) -> list[float]:
        raw = np.frombuffer(hashlib.sha256(text.encode("utf-8")).digest()[: cls.dimension], dtype=np.uint8)
        centred = raw.astype(np.float32) - 127.5
        return [float(x) for x in centred / np.linalg.norm(centred)]
