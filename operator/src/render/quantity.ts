// Quantities are part of the Hal9 API package (one parser for the operator and cdk8s).
export {
  cpuRoundedToMilli,
  memoryRoundedToBytes,
  milliCpu,
  parseQuantity,
  type Quantity,
  quantityString,
  sameQuantity,
  wholeQuantityValue,
} from '@hal9/api';
