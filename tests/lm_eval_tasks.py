"""A tiny Llama, a word-level tokenizer and a local lm-eval task: what the lm-eval tests and benchmarks evaluate offline.

The tokenizer is built with the ``tokenizers`` library and saved as transformers saves one; the
task is a multiple-choice YAML file over local JSON lines (``dataset_path: json``), so lm-eval
runs with no network and no data set.
"""

from __future__ import annotations

import json
from pathlib import Path

TINY = {
    "model_type": "llama",
    "hidden_size": 64,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "vocab_size": 64,
    "tie_word_embeddings": False,
    "max_position_embeddings": 128,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
}

WORDS = ["<pad>", "<s>", "</s>", "<unk>"] + [f"w{index}" for index in range(60)]

#: The task's name (lm-eval's ``--tasks``).
TASK = "tiny_choice"

TASK_YAML = """\
task: tiny_choice
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{question}}}}"
doc_to_choice: "{{{{choices}}}}"
doc_to_target: "{{{{answer}}}}"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def save_tokenizer(directory: Path) -> None:
    """A word-level tokenizer over ``WORDS``, saved as transformers saves one."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel({word: index for index, word in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>")
    fast.save_pretrained(directory)


def write_task(directory: Path, questions: int = 12) -> Path:
    """A multiple-choice task of ``questions`` questions (12 by default) in a local YAML file over local JSON lines."""
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "tiny_choice.jsonl"
    words = len(WORDS) - 4 - 7  # the question's first word: the choices reach 7 words further
    rows = [
        {"question": f"w{i % words} w{i % words + 1} w{i % words + 2}", "choices": [f" w{i % words + 3}", f" w{i % words + 7}"], "answer": i % 2}
        for i in range(questions)
    ]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows))
    (directory / "tiny_choice.yaml").write_text(TASK_YAML.format(data=data))
    return directory
