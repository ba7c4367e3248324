"""The training side of :mod:`latent_faces`: everything that makes and measures a generator.

It is not shipped in the Blender extension (whose wheel carries only the numpy decoder, the
latent sampling, the contact sheets and the weights: the package above this one), and nothing
in that package imports it.  Modules, in dependency order:

===================  ==================================================================  =====
module               concern                                                             torch
===================  ==================================================================  =====
``synth``            procedural 96 × 96 faces (the embedded data set)                     no
``data``             synthetic train/test split, streaming image-folder loader            no
``tasks``            input corruptions for the post's tasks                               no
``score``            k-NN precision/recall, diversity, sharpness, broken-face negatives   no
``models``           encoder/decoders, AE/VAE, losses, numpy ↔ tensor images              yes
``checkpoints``      run configuration, checkpoint files, provenance, ``load_model``      yes
``prior``            Gaussian fitted to the encodings, folded into the decoder            yes
``export``           torch decoder → ``.npz`` for :class:`latent_faces.NumpyDecoder`      yes
``adversarial``      patch discriminator, hinge loss, adaptive weight (VQGAN's term)      yes
``train``            the training loop (seeded, resumable, logged)                        yes
``face_scorer``      the face-plausibility classifier                                     yes
``evaluate``         a generator against the targets; learning curves                     yes
``study``            the post's latent-space study                                        yes
===================  ==================================================================  =====

This file imports nothing, so the numpy modules load without torch.
"""
