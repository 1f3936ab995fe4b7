print("crnn-quantize: not built yet")
