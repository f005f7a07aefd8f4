"""The DeepCluster models as the published PyTorch code defines them (models/alexnet.py, models/vgg16.py),
plus the protocol's alexnet_small; the peer our C# models are checked against."""
import math
import torch
import torch.nn as nn


def sobel_layer():
    grayscale = nn.Conv2d(3, 1, kernel_size=1, stride=1, padding=0)
    grayscale.weight.data.fill_(1.0 / 3.0)
    grayscale.bias.data.zero_()
    sobel_filter = nn.Conv2d(1, 2, kernel_size=3, stride=1, padding=1)
    sobel_filter.weight.data[0, 0].copy_(torch.FloatTensor([[1, 0, -1], [2, 0, -2], [1, 0, -1]]))
    sobel_filter.weight.data[1, 0].copy_(torch.FloatTensor([[1, 2, 1], [0, 0, 0], [-1, -2, -1]]))
    sobel_filter.bias.data.zero_()
    seq = nn.Sequential(grayscale, sobel_filter)
    for p in seq.parameters():
        p.requires_grad = False
    return seq


class Net(nn.Module):
    def __init__(self, features, classifier, feat_dim, num_classes, sobel):
        super().__init__()
        self.features = features
        self.classifier = classifier
        self.top_layer = nn.Linear(feat_dim, num_classes) if num_classes else None
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, math.sqrt(2. / n))
                m.bias.data.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()
            elif isinstance(m, nn.Linear):
                m.weight.data.normal_(0, 0.01)
                m.bias.data.zero_()
        self.sobel = sobel_layer() if sobel else None

    def forward(self, x):
        if self.sobel:
            x = self.sobel(x)
        x = self.features(x)
        x = x.reshape(x.size(0), -1)
        x = self.classifier(x)
        if self.top_layer:
            x = self.top_layer(x)
        return x

    def embed(self, x):
        if self.sobel:
            x = self.sobel(x)
        x = self.features(x).reshape(x.size(0), -1)
        return nn.Sequential(*list(self.classifier.children())[:-1])(x)


def make_features(cfg, in_channels, pool_kernel, pool_stride):
    layers = []
    for v in cfg:
        if v == 'M':
            layers += [nn.MaxPool2d(kernel_size=pool_kernel, stride=pool_stride)]
        else:
            layers += [nn.Conv2d(in_channels, v[0], kernel_size=v[1], stride=v[2], padding=v[3]),
                       nn.BatchNorm2d(v[0]), nn.ReLU(inplace=True)]
            in_channels = v[0]
    return nn.Sequential(*layers)


def alex_classifier(d_in, hidden):
    return nn.Sequential(nn.Dropout(0.5), nn.Linear(d_in, hidden), nn.ReLU(inplace=True),
                         nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True))


def alexnet(sobel=False, out=1000):
    cfg = [(96, 11, 4, 2), 'M', (256, 5, 1, 2), 'M', (384, 3, 1, 1), (384, 3, 1, 1), (256, 3, 1, 1), 'M']
    return Net(make_features(cfg, 2 if sobel else 3, 3, 2), alex_classifier(256 * 6 * 6, 4096), 4096, out, sobel)


def alexnet_small(sobel=False, out=1000):
    cfg = [(32, 5, 1, 2), 'M', (64, 5, 1, 2), 'M', (128, 3, 1, 1), (128, 3, 1, 1), (64, 3, 1, 1), 'M']
    return Net(make_features(cfg, 2 if sobel else 3, 2, 2), alex_classifier(64 * 3 * 3, 512), 512, out, sobel)


def vgg16(sobel=False, out=1000):
    cfg = []
    for width, count in [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]:
        cfg += [(width, 3, 1, 1)] * count + ['M']
    classifier = nn.Sequential(nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
                               nn.Linear(4096, 4096), nn.ReLU(True))
    return Net(make_features(cfg, 2 if sobel else 3, 2, 2), classifier, 4096, out, sobel)


ARCHS = {'alexnet': alexnet, 'alexnet_small': alexnet_small, 'vgg16': vgg16}
