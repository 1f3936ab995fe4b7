// Training: float layers, models, optimizer, training loop (see issue: float trainer).
