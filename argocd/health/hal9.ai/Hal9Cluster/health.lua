-- Argo CD health of a hal9.ai Hal9Cluster, from what the Hal9 operator writes: status.observedGeneration
-- and the conditions Ready, Progressing and Degraded, which summarise the cluster's Neurons (reasons
-- in operator/src/status/reasons.ts). The operator pauses Neurons, not clusters, so a cluster is
-- Suspended when a Paused condition says so, or when the only Neurons not Ready are paused ones.
-- Argo CD runs health scripts without Lua's string library: only base and table functions here.
local hs = { status = "Progressing", message = "Waiting for the Hal9 operator to reconcile the Hal9Cluster" }

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local paused = condition("Paused")
local progressing = condition("Progressing")
if (paused ~= nil and paused.status == "True") or (progressing ~= nil and progressing.reason == "Paused") then
  hs.status = "Suspended"
  if paused ~= nil and paused.message ~= nil then
    hs.message = paused.message
  else
    hs.message = progressing.message
  end
  return hs
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end

local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and (observed == nil or observed < generation) then
  hs.message = "Waiting for the Hal9 operator to observe generation " .. generation
  return hs
end

local degraded = condition("Degraded")
if degraded ~= nil and degraded.status == "True" then
  hs.status = "Degraded"
  hs.message = degraded.message
  return hs
end

local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  -- Every Neuron serves, but some still roll out (old pods serving): not healthy yet, as for a Neuron.
  if progressing ~= nil and progressing.status == "True" then
    hs.message = progressing.message
    return hs
  end
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

-- The only Neurons not Ready are paused (hal9.ai/paused): nothing under way will change that until
-- someone resumes them, so the cluster is Suspended rather than Progressing forever.
if ready ~= nil and ready.reason == "NeuronsPaused" and (progressing == nil or progressing.status ~= "True") then
  hs.status = "Suspended"
  hs.message = ready.message
  return hs
end

-- A cluster no Neuron refers to has nothing to roll out: healthy, so that a sync does not wait on it.
if ready ~= nil and ready.reason == "NoNeurons" then
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end

if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
elseif progressing ~= nil and progressing.message ~= nil then
  hs.message = progressing.message
end
return hs
