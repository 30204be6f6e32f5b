// Generated from the CRD by scripts/gen-types.ts (npm run gen:types). Do not edit.
import type { SchemaNode } from '../schema-check.ts';

/** The structural schema of Neuron.spec (no descriptions, defaults or CEL rules). */
export const neuronSpecSchema: SchemaNode = {
  "type": "object",
  "properties": {
    "cluster": {
      "type": "string",
      "maxLength": 63,
      "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$",
      "patternMessage": "must be the name of a Hal9Cluster in this namespace: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, such as hal9"
    },
    "layer": {
      "type": "string",
      "enum": [
        "L1",
        "L2",
        "L3",
        "L4",
        "L5",
        "L6",
        "L7",
        "L8",
        "L9"
      ]
    },
    "systemPrompt": {
      "type": "string",
      "maxLength": 32768
    },
    "forwardConnections": {
      "type": "array",
      "maxItems": 32,
      "x-kubernetes-list-type": "set",
      "items": {
        "type": "string",
        "maxLength": 63,
        "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$",
        "patternMessage": "must be the name of a Neuron: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, such as design-1"
      }
    },
    "backwardConnections": {
      "type": "array",
      "maxItems": 32,
      "x-kubernetes-list-type": "set",
      "items": {
        "type": "string",
        "maxLength": 63,
        "pattern": "^[a-z]([-a-z0-9]*[a-z0-9])?$",
        "patternMessage": "must be the name of a Neuron: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit, such as design-1"
      }
    },
    "replicas": {
      "type": "integer",
      "minimum": 0,
      "maximum": 1000
    },
    "cache": {
      "type": "object",
      "properties": {
        "enabled": {
          "type": "boolean"
        },
        "ttlSeconds": {
          "type": "integer",
          "minimum": 1,
          "maximum": 86400
        },
        "maxEntries": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000000
        }
      }
    },
    "performance": {
      "type": "object",
      "properties": {
        "signalBufferSize": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        },
        "bufferFlushMs": {
          "type": "integer",
          "minimum": 0,
          "maximum": 10000
        },
        "cacheTtlSeconds": {
          "type": "integer",
          "minimum": 1,
          "maximum": 86400
        },
        "cacheMaxEntries": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000000
        },
        "cacheLayers": {
          "type": "array",
          "maxItems": 9,
          "x-kubernetes-list-type": "set",
          "items": {
            "type": "string",
            "enum": [
              "L1",
              "L2",
              "L3",
              "L4",
              "L5",
              "L6",
              "L7",
              "L8",
              "L9"
            ]
          }
        },
        "maxConcurrentSignals": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000
        },
        "maxQueueDepth": {
          "type": "integer",
          "minimum": 0,
          "maximum": 1000000
        },
        "maxConcurrentNeurons": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000
        },
        "hopLimit": {
          "type": "integer",
          "minimum": 1,
          "maximum": 256
        },
        "requestTimeoutMs": {
          "type": "integer",
          "minimum": 100,
          "maximum": 3600000
        },
        "circuitBreaker": {
          "type": "object",
          "properties": {
            "failureThreshold": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000
            },
            "successThreshold": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000
            },
            "timeoutSeconds": {
              "type": "integer",
              "minimum": 1,
              "maximum": 3600
            },
            "windowSeconds": {
              "type": "integer",
              "minimum": 1,
              "maximum": 3600
            }
          }
        },
        "connectionPool": {
          "type": "object",
          "properties": {
            "maxConnectionsPerHost": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000
            },
            "idleTimeoutSeconds": {
              "type": "integer",
              "minimum": 1,
              "maximum": 3600
            }
          }
        },
        "requestBudget": {
          "type": "object",
          "properties": {
            "maxFanout": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000
            },
            "maxSignals": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000000
            },
            "maxModelCalls": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000000
            },
            "maxTokens": {
              "type": "integer",
              "minimum": 1,
              "maximum": 1000000000
            },
            "maxCostUSD": {
              "type": "number",
              "minimum": 0,
              "maximum": 1000000
            }
          }
        }
      }
    },
    "resources": {
      "type": "object",
      "properties": {
        "requests": {
          "type": "object",
          "properties": {
            "cpu": {
              "x-kubernetes-int-or-string": true,
              "maxLength": 32
            },
            "memory": {
              "x-kubernetes-int-or-string": true,
              "maxLength": 32
            }
          }
        },
        "limits": {
          "type": "object",
          "properties": {
            "cpu": {
              "x-kubernetes-int-or-string": true,
              "maxLength": 32
            },
            "memory": {
              "x-kubernetes-int-or-string": true,
              "maxLength": 32
            }
          }
        }
      }
    },
    "placement": {
      "type": "object",
      "properties": {
        "nodeSelector": {
          "type": "object",
          "maxProperties": 32,
          "additionalProperties": {
            "type": "string",
            "maxLength": 63,
            "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
            "patternMessage": "must be a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or empty (at most 63 characters)"
          }
        },
        "requiredNodeLabels": {
          "type": "array",
          "maxItems": 16,
          "x-kubernetes-list-type": "atomic",
          "items": {
            "type": "object",
            "properties": {
              "key": {
                "type": "string",
                "maxLength": 317
              },
              "operator": {
                "type": "string",
                "enum": [
                  "In",
                  "NotIn",
                  "Exists",
                  "DoesNotExist"
                ]
              },
              "values": {
                "type": "array",
                "maxItems": 32,
                "x-kubernetes-list-type": "atomic",
                "items": {
                  "type": "string",
                  "maxLength": 63,
                  "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
                  "patternMessage": "must be a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or empty (at most 63 characters)"
                }
              }
            },
            "required": [
              "key"
            ]
          }
        },
        "preferredNodeLabels": {
          "type": "array",
          "maxItems": 16,
          "x-kubernetes-list-type": "atomic",
          "items": {
            "type": "object",
            "properties": {
              "weight": {
                "type": "integer",
                "minimum": 1,
                "maximum": 100
              },
              "key": {
                "type": "string",
                "maxLength": 317
              },
              "operator": {
                "type": "string",
                "enum": [
                  "In",
                  "NotIn",
                  "Exists",
                  "DoesNotExist"
                ]
              },
              "values": {
                "type": "array",
                "maxItems": 32,
                "x-kubernetes-list-type": "atomic",
                "items": {
                  "type": "string",
                  "maxLength": 63,
                  "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
                  "patternMessage": "must be a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or empty (at most 63 characters)"
                }
              }
            },
            "required": [
              "key"
            ]
          }
        },
        "tolerations": {
          "type": "array",
          "maxItems": 16,
          "x-kubernetes-list-type": "atomic",
          "items": {
            "type": "object",
            "properties": {
              "key": {
                "type": "string",
                "maxLength": 317
              },
              "operator": {
                "type": "string",
                "enum": [
                  "Equal",
                  "Exists"
                ]
              },
              "value": {
                "type": "string",
                "maxLength": 63,
                "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
                "patternMessage": "must be a taint value, which Kubernetes writes as a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or empty (at most 63 characters)"
              },
              "effect": {
                "type": "string",
                "enum": [
                  "NoSchedule",
                  "PreferNoSchedule",
                  "NoExecute"
                ]
              },
              "tolerationSeconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 31536000
              }
            }
          }
        },
        "topologySpread": {
          "type": "object",
          "properties": {
            "maxSkew": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100
            },
            "topologyKey": {
              "type": "string",
              "maxLength": 317
            },
            "whenUnsatisfiable": {
              "type": "string",
              "enum": [
                "DoNotSchedule",
                "ScheduleAnyway"
              ]
            }
          }
        }
      }
    },
    "nodeTuning": {
      "type": "object",
      "properties": {
        "sysctls": {
          "type": "array",
          "maxItems": 32,
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": [
            "name"
          ],
          "items": {
            "type": "object",
            "properties": {
              "name": {
                "type": "string",
                "maxLength": 253,
                "pattern": "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$",
                "patternMessage": "must be a sysctl name such as net.core.somaxconn: parts of lower-case letters, digits, '-' and '_' between dots, each starting and ending with a letter or digit"
              },
              "value": {
                "type": "string",
                "maxLength": 256,
                "minLength": 1,
                "pattern": "^[-0-9A-Za-z_.,:/ ]+$",
                "patternMessage": "must be a sysctl value such as 1024 or 1024 65535: letters, digits, spaces and - _ . , : / only (the init container writes it to /proc/sys as it stands)"
              }
            },
            "required": [
              "name",
              "value"
            ]
          }
        },
        "privilegedSysctlInitContainer": {
          "type": "boolean"
        },
        "neuronSysctls": {
          "type": "array",
          "maxItems": 64,
          "x-kubernetes-list-type": "set",
          "items": {
            "type": "string",
            "maxLength": 253,
            "pattern": "^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[.])+([a-z0-9]([-_a-z0-9]*[a-z0-9])?|[*])$",
            "patternMessage": "nodeTuning.neuronSysctls holds sysctl names with dots (net.core.somaxconn), or a prefix ending in .* (net.core.*); a lone * or a name without a dot would allow any kernel parameter"
          }
        },
        "transparentHugepages": {
          "type": "string",
          "enum": [
            "always",
            "madvise",
            "never",
            "unset"
          ]
        },
        "thpInitContainer": {
          "type": "boolean"
        },
        "hugepages": {
          "type": "object",
          "properties": {
            "size": {
              "type": "string",
              "enum": [
                "2Mi",
                "1Gi"
              ]
            },
            "quantity": {
              "x-kubernetes-int-or-string": true,
              "maxLength": 32
            }
          },
          "required": [
            "quantity"
          ]
        },
        "cpuPinning": {
          "type": "boolean"
        },
        "initImage": {
          "type": "string",
          "maxLength": 512,
          "pattern": "^[!-~]+$",
          "patternMessage": "nodeTuning.initImage must be a container image reference such as \"busybox:1.37\": not empty, without spaces or other non-printing characters"
        }
      }
    },
    "autoscaling": {
      "type": "object",
      "properties": {
        "mode": {
          "type": "string",
          "enum": [
            "operator",
            "hpa"
          ]
        },
        "targetConcurrencyPerPod": {
          "type": "integer",
          "minimum": 1,
          "maximum": 10000
        },
        "targetUtilizationPercentage": {
          "type": "integer",
          "minimum": 1,
          "maximum": 100
        },
        "stableWindowSeconds": {
          "type": "integer",
          "minimum": 6,
          "maximum": 600
        },
        "panicWindowSeconds": {
          "type": "integer",
          "minimum": 1,
          "maximum": 60
        },
        "panicThresholdPercentage": {
          "type": "integer",
          "minimum": 110,
          "maximum": 1000
        },
        "scaleDownDelaySeconds": {
          "type": "integer",
          "minimum": 0,
          "maximum": 3600
        },
        "metricsSource": {
          "type": "string",
          "enum": [
            "pods",
            "prometheus"
          ]
        },
        "enabled": {
          "type": "boolean"
        },
        "minReplicas": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        },
        "maxReplicas": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        },
        "targetCPUUtilizationPercentage": {
          "type": "integer",
          "minimum": 1,
          "maximum": 1000
        },
        "behavior": {
          "type": "object",
          "properties": {
            "scaleUp": {
              "type": "object",
              "properties": {
                "stabilizationWindowSeconds": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 3600
                },
                "selectPolicy": {
                  "type": "string",
                  "enum": [
                    "Max",
                    "Min",
                    "Disabled"
                  ]
                },
                "policies": {
                  "type": "array",
                  "minItems": 1,
                  "maxItems": 10,
                  "x-kubernetes-list-type": "atomic",
                  "items": {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "Pods",
                          "Percent"
                        ]
                      },
                      "value": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10000
                      },
                      "periodSeconds": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1800
                      }
                    },
                    "required": [
                      "type",
                      "value",
                      "periodSeconds"
                    ]
                  }
                }
              }
            },
            "scaleDown": {
              "type": "object",
              "properties": {
                "stabilizationWindowSeconds": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 3600
                },
                "selectPolicy": {
                  "type": "string",
                  "enum": [
                    "Max",
                    "Min",
                    "Disabled"
                  ]
                },
                "policies": {
                  "type": "array",
                  "minItems": 1,
                  "maxItems": 10,
                  "x-kubernetes-list-type": "atomic",
                  "items": {
                    "type": "object",
                    "properties": {
                      "type": {
                        "type": "string",
                        "enum": [
                          "Pods",
                          "Percent"
                        ]
                      },
                      "value": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10000
                      },
                      "periodSeconds": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 1800
                      }
                    },
                    "required": [
                      "type",
                      "value",
                      "periodSeconds"
                    ]
                  }
                }
              }
            }
          }
        },
        "parallelism": {
          "type": "object",
          "properties": {
            "enabled": {
              "type": "boolean"
            },
            "min": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000
            },
            "max": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000
            },
            "latencySLOMs": {
              "type": "integer",
              "minimum": 1,
              "maximum": 600000
            },
            "shedLateSignals": {
              "type": "boolean"
            },
            "prometheusURL": {
              "type": "string",
              "maxLength": 2048
            }
          }
        }
      }
    },
    "claude": {
      "type": "object",
      "properties": {
        "mode": {
          "type": "string",
          "enum": [
            "mock",
            "api"
          ]
        },
        "model": {
          "type": "string",
          "maxLength": 128,
          "pattern": "^[A-Za-z0-9][-A-Za-z0-9._:@]*$",
          "patternMessage": "must be a model name such as claude-sonnet-4-5: letters, digits, '-', '.', '_', ':' and '@', starting with a letter or digit"
        },
        "maxTokens": {
          "type": "integer",
          "minimum": 1,
          "maximum": 131072
        },
        "timeoutMs": {
          "type": "integer",
          "minimum": 100,
          "maximum": 600000
        },
        "maxRetries": {
          "type": "integer",
          "minimum": 0,
          "maximum": 1
        },
        "baseURL": {
          "type": "string",
          "maxLength": 2048
        },
        "fallbackModels": {
          "type": "array",
          "maxItems": 8,
          "x-kubernetes-list-type": "set",
          "items": {
            "type": "string",
            "maxLength": 128,
            "minLength": 1,
            "pattern": "^[A-Za-z0-9][-A-Za-z0-9._:@]*$",
            "patternMessage": "must be a model name such as claude-sonnet-4-5: letters, digits, '-', '.', '_', ':' and '@', starting with a letter or digit"
          }
        },
        "retry": {
          "type": "object",
          "properties": {
            "maxRetries": {
              "type": "integer",
              "minimum": 0,
              "maximum": 10
            },
            "baseDelayMs": {
              "type": "integer",
              "minimum": 1,
              "maximum": 60000
            },
            "maxDelayMs": {
              "type": "integer",
              "minimum": 1,
              "maximum": 600000
            }
          }
        },
        "prices": {
          "type": "object",
          "maxProperties": 100,
          "additionalProperties": {
            "type": "object",
            "properties": {
              "input": {
                "type": "number",
                "minimum": 0,
                "maximum": 1000000
              },
              "output": {
                "type": "number",
                "minimum": 0,
                "maximum": 1000000
              },
              "cacheRead": {
                "type": "number",
                "minimum": 0,
                "maximum": 1000000
              },
              "cacheWrite": {
                "type": "number",
                "minimum": 0,
                "maximum": 1000000
              }
            },
            "required": [
              "input",
              "output"
            ]
          }
        },
        "apiKeySecretRef": {
          "type": "object",
          "properties": {
            "name": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
              "patternMessage": "must be the name of a Secret: lower-case letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit, such as hal9-api-key (the apiserver names Secrets so, and no Secret has another name)"
            },
            "key": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[.]?[-_a-zA-Z0-9][-._a-zA-Z0-9]*$",
              "patternMessage": "must be a key of the Secret: letters, digits, '-', '_' and '.', not '.' or '..' alone and not starting with '..', such as token or .dockercfg (the apiserver takes no other key in a Secret)"
            }
          },
          "required": [
            "name"
          ]
        },
        "mockResponses": {
          "type": "object",
          "maxProperties": 9,
          "additionalProperties": {
            "type": "array",
            "maxItems": 64,
            "items": {
              "type": "object",
              "properties": {
                "trigger": {
                  "type": "string",
                  "maxLength": 1024,
                  "minLength": 1
                },
                "response": {
                  "type": "string",
                  "maxLength": 16384
                },
                "delayMs": {
                  "type": "integer",
                  "minimum": 0,
                  "maximum": 600000
                }
              },
              "required": [
                "trigger",
                "response"
              ]
            }
          }
        }
      }
    },
    "monitoring": {
      "type": "object",
      "properties": {
        "serviceMonitor": {
          "type": "boolean"
        },
        "scrapeInterval": {
          "type": "string",
          "maxLength": 16
        },
        "serviceMonitorLabels": {
          "type": "object",
          "maxProperties": 16,
          "additionalProperties": {
            "type": "string",
            "maxLength": 63,
            "pattern": "^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
            "patternMessage": "must be a label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit, or empty (at most 63 characters)"
          }
        }
      }
    },
    "tracing": {
      "type": "object",
      "properties": {
        "endpoint": {
          "type": "string",
          "maxLength": 2048
        },
        "samplingRatio": {
          "type": "number",
          "minimum": 0,
          "maximum": 1
        },
        "compression": {
          "type": "string",
          "enum": [
            "gzip",
            "none"
          ]
        },
        "timeout": {
          "type": "string",
          "maxLength": 16
        },
        "resourceAttributes": {
          "type": "object",
          "maxProperties": 16,
          "additionalProperties": {
            "type": "string",
            "maxLength": 256
          }
        },
        "headersSecretRef": {
          "type": "object",
          "properties": {
            "name": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
              "patternMessage": "must be the name of a Secret: lower-case letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit, such as hal9-api-key (the apiserver names Secrets so, and no Secret has another name)"
            },
            "key": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[.]?[-_a-zA-Z0-9][-._a-zA-Z0-9]*$",
              "patternMessage": "must be a key of the Secret: letters, digits, '-', '_' and '.', not '.' or '..' alone and not starting with '..', such as token or .dockercfg (the apiserver takes no other key in a Secret)"
            }
          },
          "required": [
            "name"
          ]
        },
        "caSecretRef": {
          "type": "object",
          "properties": {
            "name": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
              "patternMessage": "must be the name of a Secret: lower-case letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit, such as hal9-api-key (the apiserver names Secrets so, and no Secret has another name)"
            },
            "key": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[.]?[-_a-zA-Z0-9][-._a-zA-Z0-9]*$",
              "patternMessage": "must be a key of the Secret: letters, digits, '-', '_' and '.', not '.' or '..' alone and not starting with '..', such as token or .dockercfg (the apiserver takes no other key in a Secret)"
            }
          },
          "required": [
            "name"
          ]
        },
        "clientCertSecretRef": {
          "type": "object",
          "properties": {
            "name": {
              "type": "string",
              "maxLength": 253,
              "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
              "patternMessage": "must be the name of a Secret: lower-case letters, digits, '-' and '.', each part between dots starting and ending with a letter or digit, such as hal9-api-key (the apiserver names Secrets so, and no Secret has another name)"
            }
          },
          "required": [
            "name"
          ]
        }
      }
    }
  },
  "required": [
    "cluster",
    "layer"
  ]
};
