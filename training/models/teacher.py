"""The teacher: a wider CNN per camera and frame, fused over cameras and time by a small transformer.

It is trained first, on ground truth only, and then distils into the student; it never runs in the int8 runtime,
so LayerNorm and attention are fine here.
"""
from __future__ import annotations

import torch
from torch import nn

from wayvert.schema import COMMANDS, HISTORY_FRAMES
from .blocks import SeparableResidual, conv_relu
from .driving_model import DrivingModel, check_image_size
from .heads import DrivingHeads, ModelOutput
from .inputs import EGO_COMMAND_FEATURES, EgoCommandFeatures


class TeacherBackbone(nn.Sequential):
    """One camera image [N, 3, H, W] -> token map [N, d_model, H/32, W/32].

    Wider than the student's at H/16 and H/32, with more residual blocks. No BatchNorm: on these CPUs it made
    the backbone's training step 1.7x slower, and zero-initialised residual branches train stably without it.
    """

    def __init__(self, d_model: int) -> None:
        super().__init__(
            conv_relu(3, 16, 4, stride=4),          # H/4: patchify stem
            conv_relu(16, 32, 3, stride=2),         # H/8
            conv_relu(32, 64, 3, stride=2),         # H/16
            SeparableResidual(64),
            conv_relu(64, d_model, 3, stride=2),    # H/32
            SeparableResidual(d_model),
            SeparableResidual(d_model),
        )


class Teacher(DrivingModel):
    """history [B, F, V, 3, H, W] (F frames, oldest first, last = now; normalised), ego [B, 2] (speed m/s,
    yaw rate rad/s), command [B, 4] one-hot -> ModelOutput.

    Each camera-frame's H/32 x W/32 map becomes tokens (+ position, camera and frame embeddings); a CLS token,
    an ego token and a command token join them; a pre-norm transformer encoder fuses all of them and the CLS
    output (with the ego/command features) feeds the same MLP and heads as the student.
    """

    kind = "teacher"

    def __init__(self, cameras: int = 3, height: int = 128, width: int = 256, frames: int = HISTORY_FRAMES,
                 modes: int = 6, d_model: int = 96, attention_heads: int = 4, layers: int = 2,
                 feedforward: int = 192, dropout: float = 0.0, hidden: int = 256) -> None:
        super().__init__(dict(cameras=cameras, height=height, width=width, frames=frames, modes=modes,
                              d_model=d_model, attention_heads=attention_heads, layers=layers,
                              feedforward=feedforward, dropout=dropout, hidden=hidden))
        check_image_size(height, width)
        self.backbone = TeacherBackbone(d_model)
        tokens_per_image = (height // 32) * (width // 32)
        self.position_embedding = nn.Parameter(0.02 * torch.randn(tokens_per_image, d_model))
        self.camera_embedding = nn.Parameter(0.02 * torch.randn(cameras, 1, d_model))
        self.frame_embedding = nn.Parameter(0.02 * torch.randn(frames, 1, 1, d_model))
        self.cls_token = nn.Parameter(0.02 * torch.randn(1, 1, d_model))
        self.ego_command = EgoCommandFeatures()
        self.ego_token = nn.Linear(2, d_model)
        self.command_token = nn.Linear(len(COMMANDS), d_model)
        layer = nn.TransformerEncoderLayer(d_model, attention_heads, feedforward, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.trunk = nn.Sequential(nn.Linear(d_model + EGO_COMMAND_FEATURES, hidden), nn.ReLU(),
                                   nn.Linear(hidden, hidden), nn.ReLU())
        self.heads = DrivingHeads(hidden, modes)

    def forward(self, history: torch.Tensor, ego: torch.Tensor, command: torch.Tensor) -> ModelOutput:
        b, f, v, c, h, w = history.shape
        maps = self.backbone(history.reshape(b * f * v, c, h, w))           # [B*F*V, d, h', w']
        tokens = maps.flatten(2).transpose(1, 2).reshape(b, f, v, -1, maps.shape[1])
        tokens = tokens + self.position_embedding + self.camera_embedding + self.frame_embedding
        ego_command = self.ego_command(ego, command)
        extra = torch.stack([self.ego_token(ego_command[:, :2]), self.command_token(command)], dim=1)
        sequence = torch.cat([self.cls_token.expand(b, -1, -1), extra, tokens.reshape(b, -1, maps.shape[1])], dim=1)
        cls = self.encoder(sequence)[:, 0]
        out: ModelOutput = self.heads(self.trunk(torch.cat([cls, ego_command], dim=1)), ego)
        return out
