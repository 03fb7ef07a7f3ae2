print("bench-embed: TODO")
