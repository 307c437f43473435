"""Whisper's audio encoder as PyTorch modules, laid out (and its weights named) as in
openai-whisper's AudioEncoder, for encoder.py.

Written out rather than imported: `whisper.model` imports the whole openai-whisper package
(its decoder, numba's word timing), 0.14 s more on every new publish, for the default engine
that does not otherwise use it, and openai-whisper is the optional engine. A test feeds both
the same weights and mel spectrogram and compares their output.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class AudioEncoder(nn.Module):
    """Two convolutions, the sinusoidal positions (loaded with the weights), residual
    attention blocks and a final layer norm; encoder.py runs them."""

    def __init__(self, n_mels: int, n_ctx: int, n_state: int, n_head: int, n_layer: int):
        super().__init__()
        self.conv1 = nn.Conv1d(n_mels, n_state, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(n_state, n_state, kernel_size=3, stride=2, padding=1)
        self.register_buffer("positional_embedding", torch.empty(n_ctx, n_state))
        self.blocks = nn.ModuleList([ResidualAttentionBlock(n_state, n_head) for _ in range(n_layer)])
        self.ln_post = nn.LayerNorm(n_state)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, n_state: int, n_head: int):
        super().__init__()
        self.attn, self.attn_ln = MultiHeadAttention(n_state, n_head), nn.LayerNorm(n_state)
        self.mlp = nn.Sequential(nn.Linear(n_state, 4 * n_state), nn.GELU(), nn.Linear(4 * n_state, n_state))
        self.mlp_ln = nn.LayerNorm(n_state)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_ln(x))
        return x + self.mlp(self.mlp_ln(x))


class MultiHeadAttention(nn.Module):
    def __init__(self, n_state: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.query, self.value, self.out = (nn.Linear(n_state, n_state) for _ in range(3))
        self.key = nn.Linear(n_state, n_state, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(*t.shape[:2], self.n_head, -1).permute(0, 2, 1, 3)

        attended = F.scaled_dot_product_attention(heads(self.query(x)), heads(self.key(x)), heads(self.value(x)))
        return self.out(attended.permute(0, 2, 1, 3).flatten(start_dim=2))
