//! [`Cost`] of the candle layers: their stages' costs, chained.

use super::{
    Conv2d, ConvTranspose2d, DepthwiseConv2d, PointwiseConv2d, SeparableConv2d,
    SpatiallySeparableConv2d,
};
use crate::cost::{Cost, LayerCost};
use crate::error::Result;

impl Cost for Conv2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        self.stage().cost(input)
    }
}

impl Cost for PointwiseConv2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        self.conv().cost(input)
    }
}

impl Cost for DepthwiseConv2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        self.conv().cost(input)
    }
}

impl Cost for SeparableConv2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        let depthwise = self.depthwise().cost(input)?;
        let pointwise = self.pointwise().cost(depthwise.output_shape)?;
        depthwise.then(pointwise)
    }
}

impl Cost for SpatiallySeparableConv2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        let vertical = self.vertical().cost(input)?;
        let horizontal = self.horizontal().cost(vertical.output_shape)?;
        vertical.then(horizontal)
    }
}

impl Cost for ConvTranspose2d {
    fn cost(&self, input: [usize; 4]) -> Result<LayerCost> {
        self.stage().cost(input)
    }
}
