-- Argo CD health of a hal9.ai Hal9Cluster, from what the Hal9 operator writes: status.observedGeneration
-- and the conditions Ready, Progressing, Degraded and Warning, which summarise the cluster's Neurons
-- and say whether its own objects (peer-token Secret, NetworkPolicies) are written (reasons in
-- operator/src/status/reasons.ts; computeClusterStatus in operator/src/status/cluster-status.ts).
-- The operator pauses Neurons, not clusters (it writes no Paused condition on a cluster), so a
-- cluster is Suspended only when the only Neurons not Ready are paused ones.
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

-- A Warning the operator raised (EntryNeuronNotFound, NoAdminToken, ClusterPauseIgnored): appended to
-- a Healthy or Progressing message, so it is seen without kubectl.
local function withWarning(message)
  local warning = condition("Warning")
  if warning == nil or warning.status ~= "True" or warning.message == nil or warning.message == "" then
    return message
  end
  if message == nil or message == "" then
    return "Warning: " .. warning.message
  end
  return message .. "; Warning: " .. warning.message
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

local progressing = condition("Progressing")
local ready = condition("Ready")
if ready ~= nil and ready.status == "True" then
  -- Every Neuron serves, but some still roll out (old pods serving), or a write of the cluster's own
  -- objects is Retrying: not healthy yet, as for a Neuron.
  if progressing ~= nil and progressing.status == "True" then
    hs.message = withWarning(progressing.message)
    return hs
  end
  hs.status = "Healthy"
  hs.message = withWarning(ready.message)
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
-- The operator writes Ready=True for it (above); this reads the Ready=False of operators before.
if ready ~= nil and ready.reason == "NoNeurons" then
  hs.status = "Healthy"
  hs.message = withWarning(ready.message)
  return hs
end

if ready ~= nil and ready.message ~= nil then
  hs.message = ready.message
  -- Not ready and Retrying a write the apiserver failed for the moment: say which, as it may be why.
  if progressing ~= nil and progressing.reason == "Retrying" and progressing.message ~= nil then
    hs.message = hs.message .. "; " .. progressing.message
  end
elseif progressing ~= nil and progressing.message ~= nil then
  hs.message = progressing.message
end
hs.message = withWarning(hs.message)
return hs
