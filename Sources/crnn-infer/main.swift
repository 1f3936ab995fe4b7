print("crnn-infer: not built yet")
