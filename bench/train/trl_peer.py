#!/usr/bin/env python3
"""Benchmark peer of bench-train: TRL's own trainer classes on CPU, the same batch, the same model.

    python3 bench/train/trl_peer.py MODEL.gguf THREADS sft|dpo|rm|ppo STEPS [RESPONSE] [f32|bf16] [recompute|keep] < batch.json

batch.json is what bench-train hands torch_peft_peer.py: {"ids", "targets"} (rows × T) or, for ppo,
{"prompts"}. Where torch_peft_peer.py writes out the computation of a step, this runs the trainer a
TRL user runs, with its data collator, its loss and its bookkeeping (trl 1.12.0, the last release
with PPOTrainer; transformers loads the GGUF dequantized to float32):
  sft  SFTTrainer on the rows as pretokenized `input_ids` (loss on every token, as ours);
  dpo  DPOTrainer, sigmoid loss, beta 0.1, the reference by switching the adapter off; pair k is
       (row k, row B + k), sharing row k's first token as the prompt (T − 1 scored tokens each);
  rm   RewardTrainer on (row k, row B + k) as chosen/rejected ids; the sequence-classification head
       on the last token, trained beside the adapter;
  ppo  PPOTrainer (trl.experimental.ppo): sampling up to RESPONSE tokens (temperature 0.7, stop at
       end of turn), a reward model's and a value model's pass (TRL's critic is a separate full
       model, trained with all its parameters; ours is a head on the policy), the reference by
       switching the adapter off, GAE, one epoch of one minibatch.
LoRA r = 8, alpha 16, dropout 0 on q_proj and v_proj; AdamW lr 1e-4, constant, clipping at 1; bf16 sets
TrainingArguments(bf16=True) (autocast on CPU); recompute (TRL's default, as ours) turns gradient
checkpointing on, keep turns it off (every activation kept, ours with --no-recompute). Each step is
timed between the trainer's step-end callbacks; the first step warms up and is not counted. Prints
one JSON line as torch_peft_peer.py.
"""
import atexit, json, os, resource, shutil, sys, tempfile, time, warnings

os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")   # the GGUF loader's progress bars
warnings.filterwarnings("ignore")

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer, TrainerCallback
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()
hf_logging.disable_progress_bar()

model_path, threads, stage, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
response = int(sys.argv[5]) if len(sys.argv) > 5 else 32
bf16 = len(sys.argv) > 6 and sys.argv[6] == "bf16"
recompute = len(sys.argv) <= 7 or sys.argv[7] != "keep"
torch.set_num_threads(threads)
torch.manual_seed(0)
batch = json.load(sys.stdin)

folder, gguf = os.path.dirname(model_path), os.path.basename(model_path)
tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=gguf)
if tokenizer.pad_token is None:
    tokenizer.pad_token = tokenizer.eos_token
lora = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"])
work = tempfile.mkdtemp(prefix="bench-train-trl-")
atexit.register(shutil.rmtree, work, True)
common = dict(output_dir=work, max_steps=steps + 1, learning_rate=1e-4, lr_scheduler_type="constant", warmup_steps=0,
              weight_decay=0.0, max_grad_norm=1.0, logging_steps=10_000, save_strategy="no", report_to=[], use_cpu=True,
              bf16=bf16, gradient_checkpointing=recompute, dataloader_num_workers=0, disable_tqdm=True, seed=0, remove_unused_columns=False)


def dequantized(m):
    """The GGUF loader leaves float32 weights but marks the model quantized, which Trainer refuses to train."""
    m.hf_quantizer, m.is_quantized = None, False
    if hasattr(m.config, "quantization_config"):
        del m.config.quantization_config
    return m


def causal_lm():
    return dequantized(AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32))


def scalar_model():
    m = dequantized(AutoModelForSequenceClassification.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32, num_labels=1))
    m.config.pad_token_id = tokenizer.pad_token_id
    return m


class StepClock(TrainerCallback):
    """Wall and CPU time at the start of training and at every step's end."""

    def __init__(self):
        self.marks = []

    def on_train_begin(self, args, state, control, **kwargs):
        self.marks.append((time.perf_counter(), time.process_time()))

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append((time.perf_counter(), time.process_time()))


clock = StepClock()
if stage != "ppo":
    rows = batch["ids"]
    half = len(rows) // 2

if stage == "sft":
    from trl import SFTConfig, SFTTrainer
    data = Dataset.from_dict({"input_ids": rows})
    trainer = SFTTrainer(model=causal_lm(), args=SFTConfig(per_device_train_batch_size=len(rows), max_length=None, **common),
                         train_dataset=data, processing_class=tokenizer, peft_config=lora, callbacks=[clock])
elif stage == "dpo":
    from trl import DPOConfig, DPOTrainer

    class PretokenizedDPOTrainer(DPOTrainer):
        """The rows are already token ids: prompt_ids, chosen_ids, rejected_ids."""

        def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
            return dataset

    data = Dataset.from_dict({"prompt_ids": [r[:1] for r in rows[:half]], "chosen_ids": [r[1:] for r in rows[:half]],
                              "rejected_ids": [r[1:] for r in rows[half:]]})
    trainer = PretokenizedDPOTrainer(model=causal_lm(), args=DPOConfig(per_device_train_batch_size=half, beta=0.1, max_length=None,
                                                                       **common),
                                     train_dataset=data, processing_class=tokenizer, peft_config=lora, callbacks=[clock])
elif stage == "rm":
    from trl import RewardConfig, RewardTrainer
    data = Dataset.from_dict({"chosen_ids": rows[:half], "rejected_ids": rows[half:]})
    trainer = RewardTrainer(model=scalar_model(), args=RewardConfig(per_device_train_batch_size=half, max_length=None, **common),
                            train_dataset=data, processing_class=tokenizer, peft_config=lora, callbacks=[clock])
else:
    import trl.experimental.ppo.ppo_trainer as ppo_module
    from trl.experimental.ppo import PPOConfig, PPOTrainer
    truncate, lengths = ppo_module.truncate_response, []

    def truncate_and_count(stop_token_id, pad_token_id, responses):   # responses: [B, RESPONSE]
        stops = (responses == stop_token_id).int()
        first = torch.where(stops.any(-1), stops.argmax(-1) + 1, torch.full_like(stops[:, 0], responses.shape[1]))
        lengths.extend(first.tolist())   # tokens up to and including the end of turn
        return truncate(stop_token_id, pad_token_id, responses)

    ppo_module.truncate_response = truncate_and_count
    prompts = batch["prompts"]
    data = Dataset.from_dict({"input_ids": prompts * (steps + 1)})
    config = PPOConfig(per_device_train_batch_size=len(prompts), num_mini_batches=1, num_ppo_epochs=1,
                       local_rollout_forward_batch_size=len(prompts), response_length=response, temperature=0.7,
                       stop_token="eos", total_episodes=len(prompts) * (steps + 1), num_sample_generations=0,
                       kl_coef=0.05, gamma=1.0, lam=0.95, **{k: v for k, v in common.items() if k != "max_steps"})
    trainer = PPOTrainer(args=config, processing_class=tokenizer, model=causal_lm(), ref_model=None,
                         reward_model=scalar_model(), value_model=scalar_model(), train_dataset=data, peft_config=lora)
    trainer.add_callback(clock)

trainer.train()
marks = clock.marks   # [train begin, end of the warm-up step, end of each measured step]
if len(marks) < 3:
    sys.exit(f"trl peer: the trainer ran {len(marks) - 1} steps, none measured after the warm-up")
walls = [b[0] - a[0] for a, b in zip(marks[1:], marks[2:])]
cpus = [b[1] - a[1] for a, b in zip(marks[1:], marks[2:])]
line = {"seconds": sum(walls) / len(walls), "cpu_seconds": sum(cpus) / len(cpus),
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "steps": len(walls), "trl": __import__("trl").__version__}
if stage == "ppo":
    measured = lengths[len(batch["prompts"]):]   # the warm-up step's responses left out
    line["response_tokens"] = sum(measured) / max(len(measured), 1)
print(json.dumps(line))
