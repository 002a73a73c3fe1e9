"""Right answers, but the decorator is missing: every call runs the model op by op."""


def pred_step(model, images):
    return model(images).argmax(axis=-1)
