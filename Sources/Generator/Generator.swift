// The Llama-family decoder, sampling, streaming; training stages (pretrain, SFT, reward, DPO, PPO, LoRA).
public enum GeneratorModule {}
