"""Image models of the course.

* :mod:`translearn_lib.vision.digit_cnn` — chapter 01's small digit CNN, its cached source
  pretraining, the target-only baseline and the unrelated sources of the negative-transfer section.
* :mod:`translearn_lib.vision.vgg` — chapter 07's VGG16 transfer classifier: input checks and grey
  preprocessing, ImageNet weights when cached (else the course's own MNIST pretraining, cached),
  freezing by block, frozen blocks as a cache, and the from-scratch / feature-extraction /
  fine-tuning comparison.

The generic Keras transfer tools (freezing, BatchNorm, recipes, learning curves) live in
:mod:`translearn_lib.keras_transfer`. Submodules are imported explicitly
(``from translearn_lib.vision import digit_cnn``), so importing the package never pulls in TensorFlow.
"""
