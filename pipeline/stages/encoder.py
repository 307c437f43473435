"""Whisper's audio encoder on PyTorch's bfloat16 matrix instructions, for faster-whisper.

CTranslate2 runs the encoder's attention products in float32 (MKL_VERBOSE: 224 of the 417 ms
a 30-s clip takes on one thread), and the encoder is a third of transcription. On a CPU
with bfloat16 matrix instructions (AMX or AVX512-BF16) PyTorch's autocast runs the same
weights in 0.11 s. The decoder, beam search and word alignment stay CTranslate2's: they are
handed the encoder's output in place of the mel spectrogram, which they accept.

Used where the CPU has those instructions and the model's weights are not quantised (the
shipped ones are float16); elsewhere CTranslate2's own encoder runs, as before.
PIPELINE_WHISPER_ENCODER=ctranslate2 (or =pytorch) chooses by hand, for comparisons.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path

import numpy as np

from pipeline.errors import TranscribeError

log = logging.getLogger(__name__)

CHOICE = "PIPELINE_WHISPER_ENCODER"


def has_bfloat16_matrix_units() -> bool:
    """True on CPUs where bfloat16 products run natively (without them autocast emulates
    bfloat16, which is slower than float32)."""
    import torch

    cpu = torch.cpu
    return any(getattr(cpu, check, lambda: False)() for check in
               ("_is_amx_tile_supported", "_is_avx512_bf16_supported"))


def wanted() -> bool:
    """Whether to put the PyTorch encoder in front of CTranslate2's decoder."""
    choice = os.environ.get(CHOICE, "auto").lower()
    if choice in ("ctranslate2", "ct2"):
        return False
    if importlib.util.find_spec("torch") is None:  # the speakers stage needs it: normally there
        return False
    return choice == "pytorch" or has_bfloat16_matrix_units()


class TorchEncoded:
    """The CTranslate2 Whisper model with its encode() done by PyTorch; everything else
    (generate, align, detect_language, ...) is the model's own."""

    def __init__(self, model, encoder, bfloat16: bool):
        self._model, self._encoder, self._bfloat16 = model, encoder, bfloat16

    def __getattr__(self, name):
        return getattr(self._model, name)

    def encode(self, features, to_cpu: bool = False):
        import ctranslate2
        import torch

        mels = torch.from_numpy(np.asarray(features))
        with torch.inference_mode():
            # A clip at a time: as fast, and a batch of four held 900 MB more at its peak
            # (the attention weights of every clip and head at once).
            out = torch.cat([self._forward(mel[None]) for mel in mels])
        return ctranslate2.StorageView.from_array(out.numpy())

    def _forward(self, mel):
        """AudioEncoder.forward with the products (convolutions, attention, MLP) in bfloat16
        and the residual stream and the output in float32. Autocast around the whole
        forward rounds the stream itself to bfloat16 (AudioEncoder casts it to the
        convolutions' type), which lost a glossary name ("Aberystwyth") that float32 hears."""
        import torch
        import torch.nn.functional as F

        encoder = self._encoder

        def products():
            return torch.autocast("cpu", dtype=torch.bfloat16, enabled=self._bfloat16)

        with products():
            x = F.gelu(encoder.conv2(F.gelu(encoder.conv1(mel))))
        x = x.float().permute(0, 2, 1) + encoder.positional_embedding
        for block in encoder.blocks:
            with products():
                x = block(x)  # its bfloat16 parts are added to the float32 stream
        return encoder.ln_post(x)


def build(folder: str) -> TorchEncoded | None:
    """The PyTorch encoder for the model at `folder` when wanted() and its weights can be
    read, else None; attach() puts it in front of the loaded model. Made apart from the
    model, so that it is built (PyTorch imported: 1 s) while CTranslate2 loads the rest."""
    if not wanted() or not (Path(folder) / "model.bin").is_file():
        return None
    try:
        encoder = _encoder(Path(folder))
    except TranscribeError as e:  # quantised weights: CTranslate2's encoder it is
        log.info("the Whisper encoder stays CTranslate2's: %s", e.message)
        return None
    import torch

    # One thread per call: each of faster-whisper's workers runs its batch on a core of its
    # own (engines._workers), and two threads per call would only wait for each other.
    torch.set_num_threads(1)
    return TorchEncoded(None, encoder, has_bfloat16_matrix_units())


def attach(whisper_model, built: TorchEncoded | None) -> bool:
    """Give a faster-whisper WhisperModel the encoder build() made; True when it has one."""
    if built is None:
        return False
    built._model = whisper_model.model
    whisper_model.model = built
    return True


def _encoder(folder: Path):
    """Whisper's AudioEncoder holding the encoder weights of a CTranslate2 folder."""
    from pipeline.stages import convert
    from pipeline.stages.audio_encoder import AudioEncoder

    checkpoint = convert.to_openai(convert.read_model_bin(folder / "model.bin"), sides=("encoder",))
    dims = checkpoint["dims"]
    encoder = AudioEncoder(dims["n_mels"], dims["n_audio_ctx"], dims["n_audio_state"],
                           dims["n_audio_head"], dims["n_audio_layer"])
    prefix = "encoder."
    encoder.load_state_dict({name[len(prefix):]: tensor.float() for name, tensor
                             in checkpoint["model_state_dict"].items() if name.startswith(prefix)})
    return encoder.eval()
