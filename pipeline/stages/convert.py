"""Convert a CTranslate2 Whisper model (model.bin) into an openai-whisper checkpoint.

    pipeline convert OUT.pt [--model CT2_FOLDER]

The shipped models (tiny.en, base: pipeline/stages/models.py) come only in CTranslate2
format; converting them lets the openai-whisper engine run offline with the very same weights. model.bin is documented by code, in
ctranslate2's specs/model_spec.py (`_serialize`): a uint32 format version, the spec name and
revision, then each variable as (name, rank, dims, dtype id, byte count, raw bytes), then
aliases (name -> name; Whisper ties the output projection to the token embeddings).
Strings are a uint16 length (counting a trailing NUL) and UTF-8 bytes. The names and the
fused attention weights come from ctranslate2's Whisper converter (converters/
transformers.py, `WhisperLoader`): self-attention `linear_0` is query, key and value stacked
(key has no bias, so its part of the fused bias is zeros), cross-attention `linear_0` is the
query and `linear_1` key and value stacked.
"""

from __future__ import annotations

import logging
import mmap
import os
import re
import struct
from pathlib import Path

import numpy as np

from pipeline.errors import TranscribeError
from pipeline.files import atomic_path, read_json

log = logging.getLogger(__name__)

# Order of ctranslate2's DataType enum (include/ctranslate2/types.h, _dtype_to_type_id).
_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_SUPPORTED_VERSIONS = range(4, 7)


def read_model_bin(path: Path) -> dict[str, np.ndarray]:
    """All variables of a CTranslate2 model.bin by name, aliases resolved: read-only arrays
    over the file mapped into memory, so only the variables used are read."""
    try:
        with open(path, "rb") as f:
            return _read(memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)), path)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as e:
        raise TranscribeError(f"{path}: the file is truncated or not a CTranslate2 model "
                              f"({type(e).__name__}: {e}). Copy or convert the model again.") from e


def _read(data: bytes, path: Path) -> dict[str, np.ndarray]:
    pos = 0

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string() -> str:
        nonlocal pos
        length = take("H")
        text = bytes(data[pos:pos + length - 1]).decode("utf-8")
        pos += length
        return text

    version = take("I")
    if version not in _SUPPORTED_VERSIONS:
        raise TranscribeError(f"{path}: CTranslate2 model format version {version} is not one this "
                              f"converter reads ({_SUPPORTED_VERSIONS.start}-{_SUPPORTED_VERSIONS.stop - 1}).")
    spec = string()
    take("I")  # the spec's revision: the layout below is the same for all
    if spec != "WhisperSpec":
        raise TranscribeError(f"{path}: this is a CTranslate2 '{spec}' model, not a Whisper model.")
    variables = {}
    for _ in range(take("I")):
        name = string()
        shape = [take("I") for _ in range(take("B"))]
        dtype, size = _DTYPES[take("B")], take("I")
        raw = data[pos:pos + size]
        pos += size
        variables[name] = _array(raw, dtype, shape)
    for _ in range(take("I")):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return variables


def _array(raw: bytes, dtype: str, shape: list[int]) -> np.ndarray:
    if dtype == "bfloat16":  # numpy has no bfloat16: it is the top half of a float32
        return (np.frombuffer(raw, "<u2").astype("<u4") << 16).view("<f4").reshape(shape)
    return np.frombuffer(raw, "<" + np.dtype(dtype).str[1:]).reshape(shape)


def to_openai(variables: dict[str, np.ndarray], alignment_heads: list | None = None,
              sides: tuple[str, ...] = ("encoder", "decoder")) -> dict:
    """The openai-whisper checkpoint (`dims` and `model_state_dict`) for these CT2 variables;
    the alignment heads (from config.json) are kept too, for better word timings. `sides`:
    ("encoder",) converts the audio encoder's weights only."""
    import torch

    if any(name.endswith("weight_scale") for name in variables):
        raise TranscribeError("This CTranslate2 model is quantized (int8/int16 weights); only "
                              "float16/float32 models can be converted. Convert the original "
                              "model again without --quantization.")
    state: dict[str, np.ndarray] = {}
    layers = {side: sorted({int(m.group(1)) for n in variables
                            if (m := re.match(rf"{side}/layer_(\d+)/", n))})
              for side in ("encoder", "decoder")}
    for side in sides:
        for i in layers[side]:
            _layer(variables, state, side, i)
    _copy(variables, state, "encoder/conv1", "encoder.conv1")
    _copy(variables, state, "encoder/conv2", "encoder.conv2")
    state["encoder.positional_embedding"] = variables["encoder/position_encodings/encodings"]
    _norm(variables, state, "encoder/layer_norm", "encoder.ln_post")
    if "decoder" in sides:
        state["decoder.token_embedding.weight"] = variables["decoder/embeddings/weight"]
        state["decoder.positional_embedding"] = variables["decoder/position_encodings/encodings"]
        _norm(variables, state, "decoder/layer_norm", "decoder.ln")
    dims = _dims(variables, len(layers["encoder"]), len(layers["decoder"]))
    # Kept in float16, as CTranslate2 stored them (and as OpenAI ships its checkpoints):
    # load_model casts to the model's float32 parameters, exactly as faster-whisper does.
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.float16)) for k, v in state.items()}
    checkpoint = {"dims": dims, "model_state_dict": tensors}
    if alignment_heads:  # whisper.load_model ignores it; our engine sets it (engines.py)
        checkpoint["alignment_heads"] = [[int(layer), int(head)] for layer, head in alignment_heads]
    return checkpoint


def _layer(v: dict, state: dict, side: str, i: int) -> None:
    src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
    _attention(v, state, f"{src}/self_attention", f"{dst}.attn", fused_qkv=True)
    _norm(v, state, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if f"{src}/attention/linear_0/weight" in v:
        _attention(v, state, f"{src}/attention", f"{dst}.cross_attn", fused_qkv=False)
        _norm(v, state, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    _copy(v, state, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    _copy(v, state, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    _norm(v, state, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def _attention(v: dict, state: dict, src: str, dst: str, fused_qkv: bool) -> None:
    if fused_qkv:
        q, k, val = np.split(v[f"{src}/linear_0/weight"], 3)
        qb, _kb, vb = np.split(v[f"{src}/linear_0/bias"], 3)
        out = f"{src}/linear_1"
    else:
        q, qb = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        k, val = np.split(v[f"{src}/linear_1/weight"], 2)
        _kb, vb = np.split(v[f"{src}/linear_1/bias"], 2)
        out = f"{src}/linear_2"
    state.update({f"{dst}.query.weight": q, f"{dst}.query.bias": qb, f"{dst}.key.weight": k,
                  f"{dst}.value.weight": val, f"{dst}.value.bias": vb})
    _copy(v, state, out, f"{dst}.out")


def _copy(v: dict, state: dict, src: str, dst: str) -> None:
    state[f"{dst}.weight"], state[f"{dst}.bias"] = v[f"{src}/weight"], v[f"{src}/bias"]


def _norm(v: dict, state: dict, src: str, dst: str) -> None:
    state[f"{dst}.weight"], state[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]


def _dims(v: dict, encoder_layers: int, decoder_layers: int) -> dict:
    conv1 = v["encoder/conv1/weight"]
    embeddings = v["decoder/embeddings/weight"]
    return {"n_mels": int(conv1.shape[1]),
            "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
            "n_audio_state": int(conv1.shape[0]),
            "n_audio_head": int(v["encoder/num_heads"]),
            "n_audio_layer": encoder_layers,
            "n_vocab": int(embeddings.shape[0]),
            "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
            "n_text_state": int(embeddings.shape[1]),
            "n_text_head": int(v["decoder/num_heads"]),
            "n_text_layer": decoder_layers}


def convert(model_dir: Path, out: Path) -> Path:
    """Write the openai-whisper checkpoint of a CTranslate2 Whisper folder to `out`."""
    import torch

    source = Path(model_dir) / "model.bin"
    if not source.is_file():
        raise TranscribeError(f"{model_dir}: no model.bin here; it is not a CTranslate2 model folder.")
    config = read_json(Path(model_dir) / "config.json", {})
    checkpoint = to_openai(read_model_bin(source), config.get("alignment_heads"))
    with atomic_path(Path(out)) as tmp:
        torch.save(checkpoint, tmp)
    return Path(out)


# Part of the cached file's name: raise it when a change here changes the checkpoint, so a
# checkpoint made by an older converter is never reused.
CONVERTER_VERSION = 1


def cache_dir() -> Path:
    """Where converted models are kept: $PIPELINE_CACHE, else the user's cache folder."""
    if os.environ.get("PIPELINE_CACHE"):
        return Path(os.environ["PIPELINE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "interview-pipeline"


def shipped_checkpoint(name: str) -> Path:
    """A model that ships (tiny.en, base) as an openai-whisper checkpoint, converted once
    from its CTranslate2 weights and then reused."""
    from pipeline.stages import models

    packages = "-".join(f"{package}-{v}" for package, v in models.versions(name).items())
    out = cache_dir() / f"{name}-{packages}-converter{CONVERTER_VERSION}.pt"
    if not out.exists():
        log.info("converting the shipped %s for openai-whisper into %s", name, out)
        convert(models.folder(name), out)
    return out
