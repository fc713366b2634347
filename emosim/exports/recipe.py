"""`lora_recipe.yaml`: LoRA defaults for the exported files, after "LoRA Without Regret".

Schulman et al., "LoRA Without Regret", Thinking Machines Lab, 2025: LoRA matches full
fine-tuning on post-training-sized data when it is applied to every layer, the MLP included;
its best learning rate is about 10x the full fine-tuning one; it tolerates large batches less
well than full fine-tuning; and a modest rank is enough for this amount of data.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..files import dump_yaml
from ..schemas.common import StrictModel
from .manifest import ExportManifest

REFERENCE = (
    'Schulman, J. and Thinking Machines Lab, "LoRA Without Regret", Thinking Machines Lab: '
    "Connectionism, 2025. https://thinkingmachines.ai/blog/lora/"
)
Objective = Literal["sft", "dpo", "kto", "reward", "classification"]

OBJECTIVES: dict[str, Objective] = {
    "openai-chat": "sft",
    "trl-messages": "sft",
    "trl-prompt-completion": "sft",
    "axolotl": "sft",
    "sharegpt": "sft",
    "openai-dpo": "dpo",
    "trl-dpo": "dpo",
    "trl-kto": "kto",
    "trl-reward": "reward",
    "emotion-classification": "classification",
    "layer": "sft",
    "layer-plan": "sft",
}
FULL_FT_LR: dict[Objective, float] = {
    "sft": 2e-5,
    "dpo": 5e-7,
    "kto": 5e-7,
    "reward": 1e-5,
    "classification": 2e-5,
}
"""Typical full fine-tuning learning rates; the LoRA rate is 10x these."""

PAIRING: dict[str, dict[str, Any]] = {
    "openai-chat": {
        "trainer": "OpenAI fine-tuning API (method: supervised), or any trainer reading messages",
        "loss_mask": "assistant messages with weight 1",
    },
    "openai-dpo": {
        "trainer": "OpenAI fine-tuning API (method: dpo)",
        "loss_mask": "preferred_output vs non_preferred_output",
    },
    "trl-messages": {
        "trainer": "trl.SFTTrainer",
        "config": {"assistant_only_loss": True},
        "loss_mask": "every assistant message (rows end at the last trainable turn)",
    },
    "trl-prompt-completion": {
        "trainer": "trl.SFTTrainer",
        "config": {"completion_only_loss": True},
        "loss_mask": "completion only; one row per trainable turn, history in the prompt",
    },
    "trl-dpo": {"trainer": "trl.DPOTrainer", "config": {"beta": 0.1}},
    "trl-kto": {"trainer": "trl.KTOTrainer", "config": {"beta": 0.1}},
    "trl-reward": {
        "trainer": "trl.RewardTrainer",
        "config": {"task_type": "SEQ_CLS", "num_labels": 1},
        "loss_mask": "not applicable: one scalar reward per reply; `margin` enters the loss",
    },
    "axolotl": {
        "trainer": "axolotl",
        "config": {
            "adapter": "lora",
            "lora_target_linear": True,
            "chat_template": "tokenizer_default",
            "datasets": [
                {
                    "path": "train.jsonl",
                    "ds_type": "json",
                    "type": "chat_template",
                    "field_messages": "messages",
                    "message_field_training": "train",
                }
            ],
        },
        "loss_mask": "messages with train: true",
    },
    "sharegpt": {
        "trainer": "LLaMA-Factory (formatting: sharegpt) or axolotl",
        "config": {
            "llamafactory_dataset_info": {
                "formatting": "sharegpt",
                "columns": {"messages": "conversations"},
                "tags": {
                    "role_tag": "from",
                    "content_tag": "value",
                    "user_tag": "human",
                    "assistant_tag": "gpt",
                    "system_tag": "system",
                },
            }
        },
        "loss_mask": "every gpt turn (rows end at the last trainable turn)",
    },
    "layer": {
        "trainer": "trl.SFTTrainer",
        "config": {"completion_only_loss": True},
        "loss_mask": "completion only (plan line + masked reply); history in the prompt",
        "stack_with": "a domain adapter (see notes: PEFT multi-adapter)",
    },
    "layer-plan": {
        "trainer": "trl.SFTTrainer",
        "config": {"completion_only_loss": True},
        "loss_mask": "completion only (the JSON plan)",
    },
    "emotion-classification": {
        "trainer": "transformers.Trainer with AutoModelForSequenceClassification + peft",
        "config": {"text_column": "text", "label_column": "emotion", "task_type": "SEQ_CLS"},
        "loss_mask": "not applicable",
    },
}


class LoraSettings(StrictModel):
    rank: int = Field(ge=16, le=32, description="LoRA rank r.")
    alpha: int = Field(description="LoRA alpha (scale alpha/r).")
    dropout: float = Field(ge=0.0, le=1.0)
    target_modules: str = Field(description="peft 'all-linear': attention AND MLP projections.")
    includes_mlp: bool


class TrainingSettings(StrictModel):
    learning_rate: float
    full_finetune_learning_rate: float = Field(description="The rate LoRA's is 10x of.")
    per_device_batch_size: int = Field(ge=1)
    gradient_accumulation_steps: int = Field(ge=1)
    effective_batch_size: int = Field(ge=1)
    epochs: int = Field(ge=1)
    lr_scheduler: str
    warmup_ratio: float
    max_seq_length: int
    extra: dict[str, Any] = Field(default_factory=dict, description="Objective-specific settings.")


class DataFiles(StrictModel):
    format: str
    columns: list[str]
    train: str | None
    validation: str | None
    test: str | None
    chat_template: str


class LoraRecipe(StrictModel):
    reference: str
    base_model: str = Field(description="Set this: the model the adapter is trained on.")
    objective: Objective
    data: DataFiles
    lora: LoraSettings
    training: TrainingSettings
    pairs_with: dict[str, Any]
    notes: list[str]


COLUMNS: dict[str, list[str]] = {
    "openai-chat": ["messages"],
    "openai-dpo": ["input", "preferred_output", "non_preferred_output"],
    "trl-messages": ["messages"],
    "trl-prompt-completion": ["prompt", "completion"],
    "trl-dpo": ["prompt", "chosen", "rejected"],
    "trl-kto": ["prompt", "completion", "label"],
    "trl-reward": ["prompt", "chosen", "rejected", "margin"],
    "axolotl": ["messages"],
    "sharegpt": ["conversations"],
    "emotion-classification": [
        "record_id", "turn_index", "text", "context", "emotion", "family",
        "intensity", "intensity_level", "secondary_emotion", "topic", "source",
    ],
    "layer": ["prompt", "completion"],
    "layer-plan": ["prompt", "completion"],
}  # fmt: skip
LAYER_NOTES = [
    "Emotional layer: domain specifics are masked ([NAME], [TOPIC], [TERM], [AMOUNT], "
    "[PERCENT], [NUMBER]), so the adapter learns how to meet a feeling, not the domain.",
    "Train it as its own LoRA on the base model, then stack it with a domain adapter trained on "
    "the customer's content (PEFT multi-adapter): model = PeftModel.from_pretrained(base, "
    "DOMAIN_DIR, adapter_name='domain'); model.load_adapter(LAYER_DIR, adapter_name='emotion'); "
    "model.add_weighted_adapter(['domain', 'emotion'], [1.0, 0.7], adapter_name='both', "
    "combination_type='cat'); model.set_adapter('both'). 'cat' concatenates the two LoRAs "
    "(rank adds up, exact); 'svd' or 'ties' merge them into one rank. Tune the layer's weight "
    "on the domain's validation set.",
    "Or keep both loaded and switch per request with model.set_adapter(...), or merge into the "
    "base weights (merge_and_unload) for serving.",
    "Sources: PEFT docs, 'Model merging' (add_weighted_adapter) and 'LoRA' (load_adapter, "
    "set_adapter), https://huggingface.co/docs/peft/developer_guides/model_merging and "
    "https://huggingface.co/docs/peft/developer_guides/lora; Huang et al. 2023, 'LoraHub: "
    "Efficient Cross-Task Generalization via Dynamic LoRA Composition', arXiv:2307.13269.",
]
"""How the layer formats' adapter is trained and stacked (written into lora_recipe.yaml)."""


def build_recipe(manifest: ExportManifest) -> LoraRecipe:
    fmt = manifest.format
    objective = OBJECTIVES[fmt]
    full_lr = FULL_FT_LR[objective]
    extra: dict[str, Any] = {}
    if objective in ("dpo", "kto"):
        extra["beta"] = 0.1
    desirable = manifest.kto_labels.get("desirable", 0)
    undesirable = manifest.kto_labels.get("undesirable", 0)
    if objective == "kto" and undesirable:
        # TRL asks for desirable_weight*n_desirable / (undesirable_weight*n_undesirable) in [1, 4/3]
        extra["desirable_weight"] = 1.0
        extra["undesirable_weight"] = round(desirable / undesirable, 3)
    split_file = {name: s.file for name, s in manifest.splits.items()}
    notes = [
        "Set base_model to an instruction-tuned chat model; train with ITS chat template.",
        "LoRA on all linear layers (attention and MLP): attention-only LoRA underperforms.",
        "Learning rate is 10x the full fine-tuning rate, as LoRA Without Regret found optimal.",
        "Keep the effective batch small: LoRA loses more than full fine-tuning at large batches.",
        "Pick the epoch count on validation.jsonl loss; families never straddle splits.",
    ]
    if manifest.options.planning:
        notes.append(
            "Planning target on: assistant content starts with <plan>...</plan>; strip that line "
            "before showing a reply to a user."
        )
    if objective == "reward":
        notes.append(
            "Reward model: a sequence-classification head with one output (peft task_type "
            "SEQ_CLS); critic pairs carry margin 0, human-ranking pairs their Plackett-Luce margin."
        )
    if objective == "classification":
        notes.append("Use num_labels = number of distinct `emotion` values in train.jsonl.")
    if fmt in ("layer", "layer-plan"):
        notes += LAYER_NOTES
    return LoraRecipe(
        reference=REFERENCE,
        base_model="SET-ME (e.g. an instruction-tuned chat model id or local path)",
        objective=objective,
        data=DataFiles(
            format=fmt,
            columns=COLUMNS[fmt],
            train=split_file.get("train"),
            validation=split_file.get("validation"),
            test=split_file.get("test"),
            chat_template="the base model's own chat template (tokenizer.apply_chat_template)",
        ),
        lora=LoraSettings(
            rank=32 if objective == "sft" else 16,
            alpha=32,
            dropout=0.05,
            target_modules="all-linear",
            includes_mlp=True,
        ),
        training=TrainingSettings(
            learning_rate=round(full_lr * 10, 10),
            full_finetune_learning_rate=full_lr,
            per_device_batch_size=4,
            gradient_accumulation_steps=2,
            effective_batch_size=8,
            epochs=1 if objective in ("dpo", "kto", "reward") else 3,
            lr_scheduler="constant_with_warmup",
            warmup_ratio=0.03,
            max_seq_length=4096,
            extra=extra,
        ),
        pairs_with=PAIRING[fmt],
        notes=notes,
    )


def recipe_yaml(manifest: ExportManifest) -> str:
    header = (
        "# LoRA recipe for this export. Set base_model, then map these settings onto your\n"
        f"# trainer (see pairs_with). Defaults follow {REFERENCE}\n"
    )
    return header + dump_yaml(build_recipe(manifest).model_dump(mode="json"))
