// bench-generate: placeholder until the tokenizer is merged.
print("bench-generate")
